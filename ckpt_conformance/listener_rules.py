"""What a listener under test should act on, given what its hook really saved (LSN-1..4).

Pure Python, part of the protocol layer: the listener checks judge against it, and
so can anyone reading the spec.  A listener acts on each saved step its schedule
names (every saved step without a schedule), once, after that checkpoint is written,
and always on the last checkpoint of a normally ended session.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ckpt_conformance.model import ended_normally, last_checkpoint
from ckpt_conformance.scenario import TARGET
from ckpt_conformance.trace import Event, only

Schedule = Callable[[int], bool]
SHOWN = only("write", "act", "close", "error")


def every_save(step: int) -> bool:
    """The default schedule: act on every saved step."""
    return True


def expected_view(schedule: Schedule | None, events: Sequence[Event]) -> list[Event]:
    """The observed writes, each followed by the act the spec asks for, then the last."""
    wanted = schedule or every_save
    view: list[Event] = []
    acted: set[int | None] = set()
    for e in SHOWN(events):
        if e.kind == "act":
            continue
        view.append(e)
        if e.kind == "write" and e.step not in acted and e.step is not None and wanted(e.step):
            view.append(Event("act", TARGET, e.step))
            acted.add(e.step)
    last = last_checkpoint(events)
    if ended_normally(events) and last is not None and last not in acted:
        view.append(Event("act", TARGET, last))
    return view


def expected_acts(schedule: Schedule | None, events: Sequence[Event]) -> list[int | None]:
    """The steps a conformant listener acts on, in order."""
    return [e.step for e in expected_view(schedule, events) if e.kind == "act"]
