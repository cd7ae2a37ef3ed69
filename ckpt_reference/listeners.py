"""Listener helpers that satisfy ``spec/listener.md`` by construction.

Subclass one and implement :meth:`act`, the listener's own work (evaluate, export,
upload...).  The helpers decide *when* to act: only after a checkpoint is written
(LSN-1), never twice on one checkpoint (LSN-2), always on the last checkpoint
(LSN-3), and on exactly the steps their schedule names (LSN-4).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import tensorflow as tf

from ckpt_reference.trigger import SaveTrigger

_Listener = tf.compat.v1.train.CheckpointSaverListener


class EverySaveListener(_Listener):
    """Acts after every checkpoint save, the last one included."""

    def act(self, session: Any, global_step_value: int) -> bool | None:
        """Do the listener's work for the checkpoint at ``global_step_value``.

        Return True to request a stop (only on the chief, LSN-6), else None.
        """
        raise NotImplementedError

    def after_save(self, session: Any, global_step_value: int) -> bool:
        return bool(self.act(session, global_step_value))  # LSN-1, LSN-5


class ScheduledListener(_Listener):
    """Acts on the saved steps its own schedule names, plus the last checkpoint.

    Give exactly one of ``steps`` (a predicate on the global step) or ``every_secs``.
    The last checkpoint is handled in :meth:`end` when :meth:`after_save` did not
    act on it, never twice: the end-without-double-act pattern of the seed document.
    """

    def __init__(
        self,
        steps: Callable[[int], bool] | None = None,
        every_secs: float | None = None,
    ) -> None:
        if (steps is None) == (every_secs is None):
            raise ValueError("Give exactly one of steps (a predicate) or every_secs.")
        self._steps = steps
        self._every_secs = every_secs
        self._begin_session_state()

    def _begin_session_state(self) -> None:
        self._last_acted_step: int | None = None
        self._timer = None if self._every_secs is None else SaveTrigger(every_secs=self._every_secs)

    def act(self, session: Any, global_step_value: int) -> bool | None:
        """Do the listener's work for the checkpoint at ``global_step_value``."""
        raise NotImplementedError

    def is_scheduled(self, global_step_value: int) -> bool:
        """Whether the schedule names this saved step."""
        if self._steps is not None:
            return bool(self._steps(global_step_value))
        return self._timer.is_due(global_step_value)

    def begin(self) -> None:
        self._begin_session_state()  # a listener may serve several sessions

    def after_save(self, session: Any, global_step_value: int) -> bool:
        if self.is_scheduled(global_step_value):  # LSN-4
            return self._act_once(session, global_step_value)
        return False

    def end(self, session: Any, global_step_value: int) -> None:
        # LSN-3: the last checkpoint, unless after_save already handled it (LSN-2).
        # end() runs after the stop decision, so a stop request here has no effect.
        self._act_once(session, global_step_value)

    def _act_once(self, session: Any, step: int) -> bool:
        if step == self._last_acted_step:  # LSN-2
            return False
        self._last_acted_step = step
        if self._timer is not None:
            self._timer.mark_saved(step)
        return bool(self.act(session, step))
