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

from ckpt_conformance.scenario import ENDS_NORMALLY, Scenario
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


def lifecycle_violations(
    events: Sequence[Event], listeners: Sequence[str], raised: frozenset[int] = frozenset()
) -> list[Violation]:
    """Replay ``events`` through :data:`LISTENER_TRANSITIONS`; return every violation.

    A violating event leaves the listener's state unchanged, so one defect yields
    one violation rather than a cascade.  A save's step must match across
    ``before_save``, ``write`` and ``after_save``.  A call at an index in ``raised``
    raised; a ``before_save()`` that raised abandons the save, so every listener
    is between saves again.
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
        if index in raised and event.kind == "before_save":  # the whole save is abandoned
            for other, state in states.items():
                if state is State.SAVING:
                    states[other] = State.READY

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


def expected_trace(scenario: Scenario, *, retry_failed_save: bool = True) -> Trace:
    """The trace a conformant hook yields for ``scenario`` (acts excluded).

    Mirrors, clause by clause, what the kit's runner records: listener calls,
    writes, runs, ``created``/``stopped``/``close``, an exception leaving a run
    (``raised``), a new TensorFlow session after a recoverable error (``recovered``,
    then ``retry`` when the interrupted run is retried) and a final ``error``; a later
    monitored session in the same directory starts with a ``session`` event.

    The spec leaves one point to a SHOULD: after a ``before_save()`` raised an
    exception that ends the session normally, END-6 recommends a final save at the
    step of that failed save.  ``retry_failed_save=False`` gives the trace of a hook
    that does not make it (TensorFlow's); both are conformant to the MUST clauses.
    """
    plans = scenario.listeners
    names = [p.name for p in plans]
    out: Trace = []
    clock = 0.0
    fired: set[str] = set()  # planned raises fire once (a retried call does not raise)
    latest_written: int | None = scenario.resume_from  # what a restore finds

    def error(type_name: str) -> None:
        out.append(Event("error", info={"type": type_name}))

    def raises(i: int, method: str, step: int | None) -> str | None:
        """The type name a listener's call raises, if this is its planned raise."""
        plan = plans[i]
        if plan.name in fired or not plan.raises_at(method, step):
            return None
        fired.add(plan.name)
        return plan.raised_type

    def save(step: int) -> tuple[bool, str | None]:
        """SAVE-2: (stop requested, type name a listener raised or None)."""
        nonlocal latest_written
        for i, name in enumerate(names):
            out.append(Event("before_save", name, step))
            if raised := raises(i, "before_save", step):
                return False, raised  # ERR-2: no write
        out.append(Event("write", step=step))
        latest_written = step
        written.add(step)
        stop = False
        for i, name in enumerate(names):
            out.append(Event("after_save", name, step))
            if raised := raises(i, "after_save", step):
                return False, raised
            stop = stop or bool(plans[i].returns.get(step))  # STOP-2, STOP-3
        return stop, None

    recovers = scenario.driver == "monitored"

    def _restored(latest: int | None) -> int:
        """The step a new TensorFlow session starts at: the latest checkpoint's, if the
        session creator restores one, else the initial 0."""
        return latest if scenario.restores and latest is not None else 0

    written: set[int] = set()  # steps written in the current TensorFlow session

    def create(step: int) -> tuple[int, str | None]:
        """A new TensorFlow session's creation save (SAVE-5, RES-1; STOP-4: its stop
        request is ignored), recovering (REC-1) as often as it raises AbortedError."""
        nonlocal written
        written = set()
        _, raised = save(step)
        while raised == "AbortedError" and recovers:
            step = _restored(latest_written)
            out.append(Event("recovered", step=step))
            written = set()
            _, raised = save(step)
        return step, raised

    def recover() -> tuple[int, str | None]:
        """``_RecoverableSession``: a new TensorFlow session restored from the latest
        checkpoint, its creation save, then the interrupted run again."""
        step = _restored(latest_written)
        out.append(Event("recovered", step=step))
        step, raised = create(step)
        if raised is None:
            out.append(Event("retry"))
        return step, raised

    def session(step: int) -> int | None:
        """One monitored session from ``step``; the step it saved last, or None on error."""
        nonlocal clock
        for i, name in enumerate(names):  # CONS-3 aside, LIFE-1
            out.append(Event("begin", name))
            if raised := raises(i, "begin", None):
                error(raised)
                return None
        step, raised = create(step)
        if raised:
            error(raised)
            return None
        last_step, last_time = step, clock
        failed_save = False  # END-6: whether a before_save() raised at the latest save
        out.append(Event("created"))

        stepper_run, aborted = 0, False
        run = 0
        ended_by: str | None = None
        while run < scenario.runs:
            if run == scenario.training_raises_at_run:
                error("TrainingError")  # END-4: no end(), no final save
                return None
            if stepper_run == scenario.aborts_before_run and not aborted:
                aborted = True
                if not recovers:
                    out.append(Event("raised", info={"type": "AbortedError"}))
                    error("AbortedError")
                    return None
                step, raised = recover()
                if raised:
                    error(raised)
                    return None
                last_step, last_time, failed_save = step, clock, False
            clock += scenario.seconds_per_run
            step += scenario.increment_at(stepper_run)
            stepper_run += 1
            out.append(Event("run", step=step))
            if scenario.save_secs is not None:  # SCHED-2
                due = clock >= last_time + scenario.save_secs and step != last_step
            else:  # SCHED-6, SCHED-3
                due = step >= last_step + scenario.save_steps
            if not due:
                run += 1
                continue
            last_step, last_time = step, clock
            stop, raised = save(step)
            failed_save = raised is not None and out[-1].kind == "before_save"
            if raised == "AbortedError" and recovers:  # the run is retried
                step, raised = recover()
                if raised:
                    error(raised)
                    return None
                last_step, last_time, failed_save = step, clock, False
                continue
            if raised:
                out.append(Event("raised", info={"type": raised}))
                if scenario.caller_continues:  # the failed save stays the latest save
                    run += 1
                    continue
                if raised not in ENDS_NORMALLY:
                    error(raised)
                    return None
                ended_by = raised  # the ``with`` block ends the session normally
                break
            run += 1
            if stop:  # STOP-1
                out.append(Event("stopped"))
                break
        if ended_by is None:
            out.append(Event("close"))
        if scenario.earlier_hook_end_raises:
            error("EarlierHookError")  # the hook's end() is never called: END-4
            return None

        # END-5, SCHED-5; END-6 (SHOULD): also after a save whose before_save() raised.
        retry = retry_failed_save and failed_save and step not in written
        if step != last_step or retry:
            _, raised = save(step)  # END-3: its stop request has no effect
            if raised:
                error(raised)
                return None
            last_step = step
        for i, name in enumerate(names):  # END-7
            out.append(Event("end", name, step))
            if raised := raises(i, "end", step):
                error(raised)
                return None
        if scenario.closes > 1:  # a second close(): END-7, no listener's end() again
            out.append(Event("close"))
            error("RuntimeError")  # MonitoredSession: "Session is already closed."
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
PHASE_AFTER = {
    "created": "run",
    "close": "final",
    "raised": "final",  # an exception left a run: the ``with`` block closes the session
    "session": "creation",
    "recovered": "creation",  # a new TensorFlow session: its creation save
    "retry": "run",  # the interrupted run again
    "run": "run",  # a run after an exception the training loop caught
}


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
    """Whether the session closed without an error (so listeners' end() ran): closed by
    the loop, or by the ``with`` block after an exception it treats as a normal end."""
    closed = any(e.kind == "close" or e.kind == "raised" for e in events)
    return closed and not any(e.kind == "error" for e in events)


def fired_raises(scenario: Scenario, events: Sequence[Event]) -> set[int]:
    """The indices of the calls in ``events`` at which a planned listener raise fires:
    the first call each plan names (a retried call does not raise again)."""
    fired: set[str] = set()
    found: set[int] = set()
    for index, e in enumerate(events):
        if e.kind not in ("begin", "before_save", "after_save", "end") or e.who in fired:
            continue
        plan = next((p for p in scenario.listeners if p.name == e.who), None)
        if plan is not None and plan.raises_at(e.kind, e.step):
            fired.add(e.who)
            found.add(index)
    return found
