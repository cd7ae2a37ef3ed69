"""The executable model of the spec: the lifecycle as data, and expected traces.

Theory of operation.  Seen from one listener, a hook is a small state machine:
``begin`` once, then any number of saves (``before_save`` → the shared ``write`` →
``after_save``, all at one step), then ``end`` once.  :data:`LISTENER_TRANSITIONS`
writes that machine down as a table, h11-style: (state, event) → new state, and any
pair missing from the table is a protocol violation attributed to a clause by
:data:`VIOLATION_CLAUSE`.  :func:`lifecycle_violations` replays an observed trace
through it.

What the table cannot say (which steps get saved, when a stop takes effect) the
simulator :func:`expected_trace` says: it plays a scenario the way the spec
prescribes and yields the exact trace a conformant hook produces.  The docs draw
the lifecycle diagram from the same table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from ckpt_conformance.scenario import PlannedListenerError, Scenario, TrainingError
from ckpt_conformance.trace import Event, Trace


class State(StrEnum):
    """A listener's state, as its hook drives it."""

    NEW = "new"
    READY = "ready"  # begun, between saves
    SAVING = "saving"  # before_save called, checkpoint not yet written
    WRITTEN = "written"  # checkpoint written, after_save not yet called
    ENDED = "ended"


#: (state, event kind) -> next state.  ``write`` is shared by every listener.
LISTENER_TRANSITIONS: dict[tuple[State, str], State] = {
    (State.NEW, "begin"): State.READY,
    (State.READY, "before_save"): State.SAVING,
    (State.SAVING, "write"): State.WRITTEN,
    (State.WRITTEN, "after_save"): State.READY,
    (State.READY, "end"): State.ENDED,
}

#: Which clause a missing transition breaks: first match on (state, event).
VIOLATION_CLAUSE: tuple[tuple[State | None, str | None, str], ...] = (
    (None, "begin", "LIFE-1"),  # begin() twice, or late
    (State.NEW, None, "LIFE-2"),  # called before begin()
    (State.ENDED, None, "LIFE-2"),  # called after end()
    (None, None, "SAVE-2"),  # anything else breaks the save protocol
)


@dataclass(frozen=True)
class Violation:
    """A trace event the lifecycle table does not allow."""

    clause: str
    index: int
    listener: str
    state: State
    event: Event

    def __str__(self) -> str:
        return (
            f"event #{self.index} {self.event} not allowed for listener "
            f"{self.listener!r} in state {self.state.value!r}"
        )


def _clause_for(state: State, kind: str) -> str:
    for want_state, want_kind, clause_id in VIOLATION_CLAUSE:
        if want_state in (None, state) and want_kind in (None, kind):
            return clause_id
    raise AssertionError("VIOLATION_CLAUSE ends with a catch-all")  # pragma: no cover


def lifecycle_violations(events: Sequence[Event], listeners: Sequence[str]) -> list[Violation]:
    """Replay ``events`` through :data:`LISTENER_TRANSITIONS`; return every violation.

    A violating event leaves the listener's state unchanged, so one defect yields
    one violation rather than a cascade.  A save's step must match across
    ``before_save``, ``write`` and ``after_save``.
    """
    states = dict.fromkeys(listeners, State.NEW)
    saving_step: dict[str, int | None] = dict.fromkeys(listeners)
    found: list[Violation] = []

    def step_to(index: int, name: str, event: Event) -> None:
        state = states[name]
        new = LISTENER_TRANSITIONS.get((state, event.kind))
        if event.kind in ("write", "after_save") and event.step != saving_step[name]:
            new = None  # the save's step must match across before/write/after
        if new is None:
            found.append(Violation(_clause_for(state, event.kind), index, name, state, event))
            return
        if event.kind == "before_save":
            saving_step[name] = event.step
        states[name] = new

    for index, event in enumerate(events):
        if event.kind == "session":  # a new monitored session: listeners start afresh
            states = dict.fromkeys(listeners, State.NEW)
            saving_step = dict.fromkeys(listeners)
        elif event.kind == "write":
            for name in listeners:
                step_to(index, name, event)
        elif event.kind in ("begin", "before_save", "after_save", "end") and event.who in states:
            step_to(index, event.who, event)
    return found


def expected_trace(scenario: Scenario) -> Trace:
    """The trace a conformant hook yields for ``scenario`` (acts excluded).

    Mirrors, clause by clause, what the kit's runner records: listener calls,
    writes, runs, ``created``/``stopped``/``close`` and a final ``error``; a later
    monitored session in the same directory starts with a ``session`` event.
    """
    plans = scenario.listeners
    names = [p.name for p in plans]
    out: Trace = []
    clock = 0.0

    def error(exc_type: type[BaseException]) -> Trace:
        out.append(Event("error", info={"type": exc_type.__name__}))
        return out

    def save(step: int) -> bool | None:
        """SAVE-2; returns the stop request, or None if a listener raised (ERR-1)."""
        for i, name in enumerate(names):
            out.append(Event("before_save", name, step))
            if plans[i].raises_at("before_save", step):
                return None  # ERR-2: no write
        out.append(Event("write", step=step))
        stop = False
        for i, name in enumerate(names):
            out.append(Event("after_save", name, step))
            if plans[i].raises_at("after_save", step):
                return None
            stop = stop or bool(plans[i].returns.get(step))  # STOP-2, STOP-3
        return stop

    def session(step: int) -> int | None:
        """One monitored session from ``step``; the step it saved last, or None on error."""
        nonlocal clock
        for i, name in enumerate(names):  # CONS-3 aside, LIFE-1
            out.append(Event("begin", name))
            if plans[i].raises_at("begin", None):
                error(PlannedListenerError)
                return None
        if save(step) is None:  # SAVE-1, RES-1; STOP-4: its stop request is ignored
            error(PlannedListenerError)
            return None
        last_step, last_time = step, clock
        out.append(Event("created"))

        for run in range(scenario.runs):
            if run == scenario.training_raises_at_run:
                error(TrainingError)  # END-4: no end(), no final save
                return None
            clock += scenario.seconds_per_run
            step += scenario.increment_at(run)
            out.append(Event("run", step=step))
            if scenario.save_secs is not None:  # SCHED-2
                due = clock >= last_time + scenario.save_secs and step != last_step
            else:  # SCHED-1, SCHED-3
                due = step >= last_step + scenario.save_steps
            if due:
                last_step, last_time = step, clock
                stop = save(step)
                if stop is None:
                    error(PlannedListenerError)
                    return None
                if stop:  # STOP-1
                    out.append(Event("stopped"))
                    break
        out.append(Event("close"))

        if step != last_step:  # END-1, SCHED-4; END-3
            if save(step) is None:
                error(PlannedListenerError)
                return None
            last_step = step
        for i, name in enumerate(names):  # END-2
            out.append(Event("end", name, step))
            if plans[i].raises_at("end", step):
                error(PlannedListenerError)
                return None
        return last_step

    restored: int | None = scenario.start_step
    for index in range(scenario.sessions):
        if restored is None:
            break  # the previous session failed
        if index:  # the next session restores the previous one's last checkpoint
            out.append(Event("session", step=restored))
        restored = session(restored)
    return out


#: The events that move a session to its next phase (a ``session`` event starts the next
#: monitored session): creation save, then runs, then the final save and ``end()``.
PHASE_AFTER = {"created": "run", "close": "final", "session": "creation"}


def phases(events: Sequence[Event]) -> list[tuple[int, str]]:
    """The session (0-based) and phase ("creation", "run", "final") each event happens
    in, plus, as a last entry, where the trace leaves off."""
    session, phase = 0, "creation"
    out = []
    for e in events:
        out.append((session, phase))
        session += e.kind == "session"
        phase = PHASE_AFTER.get(e.kind, phase)
    out.append((session, phase))
    return out


def saved_steps(events: Sequence[Event]) -> list[int | None]:
    """The steps of the writes in a trace, in order."""
    return [e.step for e in events if e.kind == "write"]


def last_checkpoint(events: Sequence[Event]) -> int | None:
    """The step of the last write, or None."""
    steps = saved_steps(events)
    return steps[-1] if steps else None


def ended_normally(events: Sequence[Event]) -> bool:
    """Whether the session closed without an error (so listeners' end() ran)."""
    return any(e.kind == "close" for e in events) and not any(e.kind == "error" for e in events)
