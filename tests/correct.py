"""Correct but unusual hooks: written differently from TensorFlow's, behaving the same.

Each must pass every check (``tests/test_selftest.py``): a kit that rejects a correct
implementation teaches its users to ignore it.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from ckpt_reference import CheckpointSaverHook as Reference
from ckpt_reference.trigger import SaveTrigger


class SavesOnAWorkerThread(Reference):
    """Runs ``Saver.save`` on a worker thread and waits for it (e.g. to bound its time)."""

    def _get_saver(self) -> Any:
        saver = super()._get_saver()
        return _OffThread(saver)


class _OffThread:
    def __init__(self, saver: Any) -> None:
        self._saver = saver

    def save(self, session: Any, *args: Any, **kwargs: Any) -> Any:
        result: dict[str, Any] = {}

        def work() -> None:
            try:  # a new thread starts in eager mode: enter the session's graph
                with session.graph.as_default():
                    result["path"] = self._saver.save(session, *args, **kwargs)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
                result["error"] = exc

        thread = threading.Thread(target=work, name="saver")
        thread.start()
        thread.join()
        if "error" in result:
            raise result["error"]
        return result["path"]


class _PerfCounterTrigger(SaveTrigger):
    """The reference schedule, timed with ``time.perf_counter`` instead of ``time.time``."""

    def time_allows(self) -> bool:
        if self._every_secs is None or self._last_time is None:
            return True
        return time.perf_counter() >= self._last_time + self._every_secs

    def mark_saved(self, step: int) -> None:
        self.last_step = step
        self._last_time = time.perf_counter()


class TimesWithPerfCounter(Reference):
    """Measures ``save_secs`` with ``time.perf_counter()``, a clock a hook may reasonably use."""

    def __init__(self, checkpoint_dir: str, save_secs=None, save_steps=None, **kwargs: Any):
        super().__init__(checkpoint_dir, save_secs=save_secs, save_steps=save_steps, **kwargs)
        self._trigger = _PerfCounterTrigger(every_secs=save_secs, every_steps=save_steps)


CORRECT_HOOKS = [SavesOnAWorkerThread, TimesWithPerfCounter]
