"""Scenarios as data: what one run of training around a hook consists of.

Pure Python (no TensorFlow): the model (:mod:`ckpt_conformance.model`) reads these
to predict a trace, the runner (:mod:`ckpt_conformance.scenarios`) executes them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: The listener name the kit gives to a listener under test.
TARGET = "L"


class PlannedListenerError(Exception):
    """Raised by a recording listener where the scenario tells it to (ERR clauses)."""


class TrainingError(Exception):
    """Raised by the kit's training loop where the scenario tells it to (END-4)."""


class EarlierHookError(Exception):
    """Raised by the ``end()`` of a kit hook placed before the hook under test."""


def checkpoint_step(path: object) -> int | None:
    """The step a checkpoint's name ends in (``-<digits>``, zero-padded or not; SAVE-6)."""
    match = re.search(r"-(\d+)$", str(path or ""))
    return int(match.group(1)) if match else None


#: What a planned listener raise raises, by ``ListenerPlan.raises``: the kit's own error,
#: the two exceptions a monitored session treats as a normal end, or the error it
#: recovers from (type names, as the trace records them).
PLANNED_TYPES = {
    "planned": "PlannedListenerError",
    "out_of_range": "OutOfRangeError",
    "stop_iteration": "StopIteration",
    "aborted": "AbortedError",
}

#: The exception type names a ``with MonitoredSession`` block turns into a normal end.
ENDS_NORMALLY = ("OutOfRangeError", "StopIteration")


@dataclass(frozen=True)
class ListenerPlan:
    """What one recording listener does: its name, returns and planned raise."""

    name: str
    returns: Mapping[int, Any] = field(default_factory=dict)  # step -> after_save value
    raises_in: tuple[str, int | None] | None = None  # (method, step or None for begin)
    target: bool = False  # the listener under test takes this slot
    raises: str = "planned"  # which exception the planned raise is (a key of PLANNED_TYPES)

    def raises_at(self, method: str, step: int | None) -> bool:
        """Whether this listener is planned to raise in ``method`` at ``step`` (the
        first such call only: a retried save or a recovered session does not raise)."""
        planned = self.raises_in
        return planned is not None and planned[0] == method and planned[1] in (None, step)

    def __hash__(self) -> int:
        return hash((self.name, tuple(sorted(self.returns.items())), self.raises_in, self.raises))

    @property
    def raised_type(self) -> str:
        """The type name of the planned exception, as the trace records it."""
        return PLANNED_TYPES[self.raises]


@dataclass(frozen=True)
class Scenario:
    """One run of training around a hook; every field is observable in the trace."""

    name: str
    save_steps: int | None = 1
    save_secs: float | None = None
    runs: int = 4
    increment: int = 1
    seconds_per_run: float = 0.0
    resume_from: int | None = None
    listeners: tuple[ListenerPlan, ...] = (ListenerPlan("a"), ListenerPlan("b"))
    training_raises_at_run: int | None = None
    clock_start: float = 0.0  # seconds past a whole second when the session starts
    #: Per-run step increments, cycled (stalls are 0s, jumps large); empty: ``increment``.
    increments: tuple[int, ...] = ()
    #: Monitored sessions run one after the other in the same checkpoint directory; each
    #: later one restores the checkpoint the previous one left, with a new hook.
    sessions: int = 1
    #: The stepper's run (0-based) before which the graph raises ``AbortedError`` once;
    #: ``MonitoredSession`` recovers with a new TensorFlow session (REC-1, SAVE-5).
    aborts_before_run: int | None = None
    #: Whether each TensorFlow session restores the latest checkpoint of checkpoint_dir
    #: (``ChiefSessionCreator(checkpoint_dir=...)``); if not, a recovery starts again from
    #: initialized variables, so the global step goes back (LSN-7).
    restores: bool = True
    #: The training loop catches a run's exception and goes on with the next run.
    caller_continues: bool = False
    #: ``"monitored"`` (``MonitoredSession``) or ``"singular"`` (``SingularMonitoredSession``,
    #: which never recovers).
    driver: str = "monitored"
    step_dtype: str = "int64"  # the global step's dtype: "int64" or "int32"
    #: The saver the hook is given: ``""`` (none: the graph's), ``"padded"`` (a
    #: ``Saver(pad_step_number=True)``) or ``"scaffold"`` (a scaffold holding one).
    saver: str = ""
    #: How the listeners are passed: ``"list"``, ``"tuple"``, ``"generator"``, or, for a
    #: scenario without listeners, ``"none"`` (``listeners=None``) or ``"empty"`` (``[]``).
    listeners_as: str = "list"
    earlier_hook_end_raises: bool = False  # a kit hook before the hook under test
    closes: int = 1  # how many times the monitored session is closed
    #: The checkpoint directory and its parent do not exist when the hook is built (CONS-6).
    fresh_dir: bool = False

    @property
    def start_step(self) -> int:
        return self.resume_from or 0

    def increment_at(self, run: int) -> int:
        """How far the global step moves in run ``run`` (0-based, counted per session)."""
        if self.increments:
            return self.increments[run % len(self.increments)]
        return self.increment

    def hook_kwargs(self) -> dict[str, Any]:
        if self.save_secs is not None:
            return {"save_secs": self.save_secs}
        return {"save_steps": self.save_steps}
