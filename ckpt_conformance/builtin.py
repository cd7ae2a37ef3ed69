"""Listener factories over the reference helpers: the kit's default listener targets.

Each follows the listener contract, ``factory(record) -> CheckpointSaverListener``,
and calls ``record(step)`` where a real listener would evaluate or export.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def every_save_listener(record: Callable[[int], None]) -> Any:
    """A :class:`ckpt_reference.EverySaveListener` that records each action."""
    from ckpt_reference import EverySaveListener

    class Recording(EverySaveListener):
        def act(self, session: Any, global_step_value: int) -> None:
            record(global_step_value)

    return Recording()


def _every_third_step(step: int) -> bool:
    return step % 3 == 0


def every_third_step_listener(record: Callable[[int], None]) -> Any:
    """A :class:`ckpt_reference.ScheduledListener` acting on steps divisible by 3."""
    from ckpt_reference import ScheduledListener

    class Recording(ScheduledListener):
        def act(self, session: Any, global_step_value: int) -> None:
            record(global_step_value)

    return Recording(steps=_every_third_step)


every_third_step_listener.schedule = _every_third_step  # type: ignore[attr-defined]
