"""Scenarios as data: what one run of training around a hook consists of.

Pure Python (no TensorFlow): the model (:mod:`ckpt_conformance.model`) reads these
to predict a trace, the runner (:mod:`ckpt_conformance.scenarios`) executes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: The listener name the kit gives to a listener under test.
TARGET = "L"


class PlannedListenerError(Exception):
    """Raised by a recording listener where the scenario tells it to (ERR clauses)."""


class TrainingError(Exception):
    """Raised by the kit's training loop where the scenario tells it to (END-4)."""


@dataclass(frozen=True)
class ListenerPlan:
    """What one recording listener does: its name, returns and planned raise."""

    name: str
    returns: Mapping[int, Any] = field(default_factory=dict)  # step -> after_save value
    raises_in: tuple[str, int | None] | None = None  # (method, step or None for begin)
    target: bool = False  # the listener under test takes this slot

    def raises_at(self, method: str, step: int | None) -> bool:
        """Whether this listener is planned to raise in ``method`` at ``step``."""
        planned = self.raises_in
        return planned is not None and planned[0] == method and planned[1] in (None, step)

    def __hash__(self) -> int:
        return hash((self.name, tuple(sorted(self.returns.items())), self.raises_in))


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
