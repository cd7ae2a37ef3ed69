"""What a listener under test should act on, given what its hook really saved (LSN-1..4).

Pure Python, part of the protocol layer: the listener checks judge against it, and
so can anyone reading the spec.  A listener acts on each save its declared schedule
names (every save without one; :mod:`ckpt_conformance.schedules`), once, after that
checkpoint is written, and always on the last checkpoint of a normally ended session.
The schedule's decision model is fed the saves the listener saw, in order.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from ckpt_conformance.model import ended_normally, last_checkpoint
from ckpt_conformance.scenario import TARGET
from ckpt_conformance.schedules import Save, Schedule, ScheduleError, every_save
from ckpt_conformance.trace import Event, only

#: What a listener's view of a trace keeps besides its acts.
_CONTEXT = ("write", "close", "error", "session")
SHOWN = only("act", *_CONTEXT)


def saves_seen(events: Sequence[Event]) -> Iterator[tuple[int, Save]]:
    """Each ``after_save()`` call on the listener under test, as its schedule sees it,
    with the index of that call in ``events``."""
    index, creation, final = 0, False, False
    for position, e in enumerate(events):
        if e.kind == "begin" and e.who == TARGET:
            index, creation, final = 0, True, False
        elif e.kind == "recovered":
            creation = True
        elif e.kind == "close":
            final = True
        elif e.kind == "after_save" and e.who == TARGET and e.step is not None:
            save = Save(e.step, index, float(e.info.get("time", 0.0)), creation, final)
            yield position, save
            index, creation = index + 1, False


def scheduled(schedule: Schedule | None, events: Sequence[Event]) -> dict[int, Save]:
    """The saves (by position in ``events``) the declared schedule says to act on.

    A decision model that raises or answers other than True/False is the declaration's
    fault, reported as a :class:`ScheduleError` naming the save.
    """
    schedule = schedule or every_save()
    chosen: dict[int, Save] = {}
    decide = schedule.decide()
    for position, save in saves_seen(events):
        if save.index == 0 and schedule.per_session:
            decide = schedule.decide()  # a fresh model for each listener session
        try:
            answer = decide(save)
        except Exception as exc:  # noqa: BLE001 - the user's model: one clear line
            raise ScheduleError(
                f"the declared schedule ({schedule}) raised {type(exc).__name__}: {exc} "
                f"at {save}; fix the factory's 'schedule' declaration"
            ) from None
        if not isinstance(answer, bool):
            import numpy as np

            if not isinstance(answer, np.bool_):
                raise ScheduleError(
                    f"the declared schedule ({schedule}) returned {answer!r} at {save}, "
                    "not True or False"
                )
        if answer:
            chosen[position] = save
    return chosen


def per_session(events: Sequence[Event]) -> list[list[Event]]:
    """The trace cut into its monitored sessions (a scenario may run several, one after
    the other, each starting with a ``session`` event): LSN-3 holds for each."""
    sessions: list[list[Event]] = [[]]
    for e in events:
        if e.kind == "session":
            sessions.append([])
        sessions[-1].append(e)
    return sessions


def expected_view(schedule: Schedule | None, events: Sequence[Event]) -> list[Event]:
    """The observed writes, each followed by the act the spec asks for, and the last
    checkpoint of each normally ended session."""
    chosen = scheduled(schedule, events)
    view: list[Event] = []
    position = 0
    for session in per_session(events):
        acted: set[int | None] = set()
        for e in session:
            if position in chosen and e.step not in acted:
                view.append(Event("act", TARGET, e.step))
                acted.add(e.step)
            elif e.kind in _CONTEXT:
                view.append(e)
            position += 1
        last = last_checkpoint(session)
        if ended_normally(session) and last is not None and last not in acted:
            view.append(Event("act", TARGET, last))
    return view


def expected_acts(schedule: Schedule | None, events: Sequence[Event]) -> list[int | None]:
    """The steps a conformant listener acts on, in order."""
    return [e.step for e in expected_view(schedule, events) if e.kind == "act"]
