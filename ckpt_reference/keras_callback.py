"""``CheckpointSaverCallback``: the checkpoint-listener protocol under ``model.fit``.

TF's ``CheckpointSaverHook`` drives ``CheckpointSaverListener``s inside a TF1
``MonitoredSession``; Keras has no such hook.  This callback drives the same
listeners, with the same call order and the same stop semantics, from Keras's
callback events, so a listener written for the hook works unchanged under ``fit``.  Comments cite
the ``spec/hook.md`` clause a line mirrors.

Design choices, and why:

* The global step is the optimizer's ``iterations``: it is what a checkpoint of
  ``Checkpoint(model=..., optimizer=...)`` restores, so a restored run saves at the
  step it resumes from.  With ``steps_per_execution=k`` Keras calls the batch hooks
  once per execution, so the step seen here jumps by k (fewer on a last partial
  execution); ``save_steps`` therefore saves at the first execution boundary at or
  past each interval, as the hook does with a multi-step ``session.run``.
* ``session`` is passed to listeners as ``None``: there is no TF1 session under fit.
* Writes go through ``tf.train.CheckpointManager`` with ``checkpoint_number=step``,
  so the ``checkpoint`` state file names ``<dir>/<checkpoint_name>-<step>``.
* Overriding ``on_train_batch_end`` matters beyond the schedule: Keras 2 only calls
  batch hooks of callbacks that override them, and Keras 3 dispatches batch hooks
  synchronously (in the training thread) only when a callback overrides them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import tensorflow as tf

from ckpt_reference.trigger import SaveTrigger

_Listener = tf.compat.v1.train.CheckpointSaverListener


class CheckpointSaverCallback(tf.keras.callbacks.Callback):
    """Saves checkpoints every N steps or seconds during ``fit`` and drives listeners."""

    def __init__(
        self,
        checkpoint_dir: str,
        save_secs: float | None = None,
        save_steps: int | None = None,
        listeners: Iterable[_Listener] | None = None,
        checkpoint: tf.train.Checkpoint | None = None,
        checkpoint_name: str = "ckpt",
        max_to_keep: int | None = None,
    ) -> None:
        super().__init__()
        SaveTrigger(every_secs=save_secs, every_steps=save_steps)  # CONS-1: fail early
        self._save_secs = save_secs
        self._save_steps = save_steps
        self._checkpoint_dir = checkpoint_dir
        self._listeners = list(listeners or [])  # CONS-7, CONS-8: any iterable, once
        self._checkpoint = checkpoint
        self._checkpoint_name = checkpoint_name
        self._max_to_keep = max_to_keep
        self._trigger: SaveTrigger | None = None
        self._manager: tf.train.CheckpointManager | None = None

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        # Each fit() starts afresh: listeners begin again, with a new schedule.
        for listener in self._listeners:  # LIFE-1
            listener.begin()
        self._trigger = SaveTrigger(every_secs=self._save_secs, every_steps=self._save_steps)
        checkpoint = self._checkpoint
        if checkpoint is None:
            checkpoint = tf.train.Checkpoint(model=self.model, optimizer=self.model.optimizer)
        tf.io.gfile.makedirs(self._checkpoint_dir)  # CONS-6
        self._manager = tf.train.CheckpointManager(
            checkpoint,
            self._checkpoint_dir,
            max_to_keep=self._max_to_keep,
            checkpoint_name=self._checkpoint_name,
        )
        self._save(self._step())  # SAVE-5, RES-1; STOP-4: its stop request is ignored

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if not self._trigger.time_allows():  # most batches with save_secs: one clock read
            return
        step = self._step()  # SCHED-3: the step after the execution
        if self._trigger.is_due(step) and self._save(step):  # SCHED-6, SCHED-2, SCHED-5
            self.model.stop_training = True  # STOP-1: Keras ends fit after this batch

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        last_step = self._step()
        if last_step != self._trigger.last_step:  # END-5
            self._save(last_step)  # END-3: its stop request has no effect
        for listener in self._listeners:  # END-7
            listener.end(None, last_step)

    def _step(self) -> int:
        """The global step: the optimizer's iteration count (Keras 2 and 3 alike)."""
        return int(self.model.optimizer.iterations)

    def _save(self, step: int) -> bool:
        """One save (SAVE-2); returns whether any listener requested a stop."""
        self._trigger.mark_saved(step)
        for listener in self._listeners:  # ERR-2: a raise here prevents the write
            listener.before_save(None, step)
        self._manager.save(checkpoint_number=step)  # SAVE-3
        stop_requested = False
        for listener in self._listeners:
            if listener.after_save(None, step):  # STOP-2: no short-circuit
                stop_requested = True
        return stop_requested
