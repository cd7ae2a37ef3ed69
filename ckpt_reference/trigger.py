"""The save schedule: every N steps or every T seconds (SCHED-6, SCHED-2, SCHED-5).

This is the only module of the reference implementation that reads a clock, and it
reads ``time.time`` at call time so that a test (or the conformance kit) can
control time by patching it.
"""

from __future__ import annotations

import time


def _now() -> float:
    return time.time()


class SaveTrigger:
    """Decides after each run whether a save is due, like TF's ``SecondOrStepTimer``.

    ``last_step`` is the global step of the latest save (``None`` before the first).
    """

    def __init__(self, every_secs: float | None = None, every_steps: int | None = None):
        # CONS-1: exactly one of the two intervals.
        if every_secs is None and every_steps is None:
            raise ValueError("Either every_secs or every_steps should be provided.")
        if every_secs is not None and every_steps is not None:
            raise ValueError("Can not provide both every_secs and every_steps.")
        self._every_secs = every_secs
        self._every_steps = every_steps
        self.last_step: int | None = None
        self._last_time: float | None = None

    def time_allows(self) -> bool:
        """False when a save cannot be due whatever the step is (seconds not yet elapsed).

        Lets the hook skip reading the global step on most runs with ``save_secs``.
        """
        if self._every_secs is None or self._last_time is None:
            return True
        return _now() >= self._last_time + self._every_secs  # SCHED-2

    def is_due(self, step: int) -> bool:
        """True when the hook must save at ``step`` (SCHED-6, SCHED-2, SCHED-5)."""
        if self.last_step is None:
            return True
        if step == self.last_step:  # SCHED-5: never twice at one step
            return False
        if self._every_secs is not None:
            return self.time_allows()  # SCHED-2
        return step >= self.last_step + self._every_steps  # SCHED-6

    def mark_saved(self, step: int) -> None:
        """Record that a save was triggered at ``step``, now."""
        self.last_step = step
        self._last_time = _now()
